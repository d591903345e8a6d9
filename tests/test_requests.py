"""Form values -> arguments: exact JSON types, fal's defaults, and clear refusals."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from playground import catalog
from playground.errors import InputError
from playground.requests import build_request


def build(endpoint_id: str, **values):
    return build_request(catalog.BY_ID[endpoint_id], values, rng=random.Random(1))


def test_catalog_covers_every_endpoint_once():
    ids = [e.id for e in catalog.ENDPOINTS]
    assert len(ids) == len(set(ids)) == 13
    assert {e.mode for e in catalog.ENDPOINTS} == set(catalog.MODES)


@pytest.mark.parametrize(
    ("endpoint_id", "expected"),
    [
        ("fal-ai/pika/v2.5/text-to-video", "5"),
        ("fal-ai/pika/v2.2/text-to-video", "5"),
        ("fal-ai/pika/v2.1/text-to-video", 5),
        ("fal-ai/pika/v2/turbo/text-to-video", 5),
    ],
)
def test_duration_takes_the_json_type_each_version_declares(endpoint_id, expected):
    args = build(endpoint_id, prompt="a cat", duration="5").arguments
    assert args["duration"] == expected and type(args["duration"]) is type(expected)
    args = build(endpoint_id, prompt="a cat", duration=5.0).arguments
    assert type(args["duration"]) is type(expected)


def test_v25_has_no_aspect_ratio_and_defaults_follow_the_catalog():
    args = build("fal-ai/pika/v2.5/text-to-video", prompt="a cat").arguments
    assert "aspect_ratio" not in args
    assert args["resolution"] == "720p" and args["negative_prompt"] == "ugly, bad, terrible"
    with pytest.raises(InputError) as err:
        build("fal-ai/pika/v2.5/text-to-video", prompt="a cat", aspect_ratio="16:9")
    assert err.value.field == "aspect_ratio"


def test_a_field_this_version_lacks_is_refused_only_when_given():
    v25 = "fal-ai/pika/v2.5/text-to-video"
    assert "aspect_ratio" not in build(v25, prompt="a cat", aspect_ratio=None).arguments
    with pytest.raises(InputError, match="^aspect_ratio: Aspect ratio is not a setting of "
                                         "Pika 2.5; leave it out, or pick v2.2, v2.1 or v2 Turbo"):
        build(v25, prompt="a cat", aspect_ratio="16:9")


def test_blank_seed_is_chosen_sent_and_reported():
    request = build("fal-ai/pika/v2.2/text-to-video", prompt="a cat", seed=None)
    assert request.seed == request.arguments["seed"]
    assert 0 <= request.seed <= catalog.SEED_MAX
    assert build("fal-ai/pika/v2.2/text-to-video", prompt="x", seed=42.0).arguments["seed"] == 42


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"prompt": "bell\x07"}, "prompt"),
        ({"prompt": "a", "seed": -1}, "seed"),
        ({"prompt": "a", "seed": 2**40}, "seed"),
        ({"prompt": "a", "seed": 1.5}, "seed"),
        ({"prompt": "a", "seed": True}, "seed"),
        ({"prompt": "a", "resolution": "4k"}, "resolution"),
        ({"prompt": "a", "aspect_ratio": "21:9"}, "aspect_ratio"),
        ({"prompt": "a", "duration": "7"}, "duration"),
        ({"prompt": "a", "nonsense": 1}, "nonsense"),
    ],
)
def test_bad_values_name_their_field(values, field):
    with pytest.raises(InputError) as err:
        build("fal-ai/pika/v2.2/text-to-video", **values)
    assert err.value.field == field
    assert err.value.message


def test_unicode_prompts_are_welcome():
    args = build("fal-ai/pika/v2.2/text-to-video", prompt="猫が踊る 🐈\nslow pan").arguments
    assert args["prompt"] == "猫が踊る 🐈\nslow pan"


def test_an_unpicked_effect_asks_for_one():
    with pytest.raises(InputError) as err:
        build("fal-ai/pika/v1.5/pikaffects", image_url="x.png")
    assert err.value.field == "pikaffect"
    assert str(err.value.message) == "Pikaffect is required: pick an effect."


def test_pikaffect_must_be_one_of_sixteen():
    assert len(catalog.PIKAFFECTS) == 16
    with pytest.raises(InputError) as err:
        build("fal-ai/pika/v1.5/pikaffects", image_url="x.png", pikaffect="Vaporize")
    assert err.value.field == "pikaffect"


FRAMES = "fal-ai/pika/v2.2/pikaframes"


@pytest.mark.parametrize("count", [0, 1, 6])
def test_keyframe_count_outside_two_to_five_is_refused(count):
    with pytest.raises(InputError) as err:
        build(FRAMES, image_urls=[f"{i}.png" for i in range(count)])
    assert err.value.field == "image_urls"


def test_transitions_are_counted_and_totalled():
    images = ["a.png", "b.png", "c.png"]
    args = build(FRAMES, image_urls=images,
                 transitions=[{"duration": "5", "prompt": "fly"}, {"duration": 8.0, "prompt": ""}]
                 ).arguments
    assert args["transitions"] == [{"duration": 5, "prompt": "fly"}, {"duration": 8}]
    with pytest.raises(InputError, match="need 2 transitions"):
        build(FRAMES, image_urls=images, transitions=[{"duration": 5}])
    with pytest.raises(InputError, match="26 s; the limit is 25 s"):
        build(FRAMES, image_urls=images, transitions=[{"duration": 13}, {"duration": 13}])


def test_the_core_never_imports_gradio():
    code = ("import sys, playground.jobs, playground.service, playground.backends.fal, "
            "playground.backends.local; assert 'gradio' not in sys.modules, 'gradio imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
