"""fal's input schemas for the 13 Pika endpoints, written from ENDPOINTS.md and the seeds.

Deliberately independent of the app's catalog, so a mistake there (an int
where fal wants the string "5", a field an endpoint lacks) is caught here.
Strict: no coercion, no unknown fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

AspectRatio = Literal["16:9", "9:16", "1:1", "4:5", "5:4", "3:2", "2:3"]
Resolution = Literal["720p", "1080p"]
Resolution25 = Literal["480p", "720p", "1080p"]
DurationEnum = Literal["5", "10"]
Pikaffect = Literal["Cake-ify", "Crumble", "Crush", "Decapitate", "Deflate", "Dissolve",
                    "Explode", "Eye-pop", "Inflate", "Levitate", "Melt", "Peel", "Poke",
                    "Squish", "Ta-da", "Tear"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    seed: int | None = None


class TextToVideo25(Strict):
    prompt: str
    resolution: Resolution25 = "720p"
    duration: DurationEnum = "5"
    negative_prompt: str = "ugly, bad, terrible"


class TextToVideo22(Strict):
    prompt: str
    aspect_ratio: AspectRatio = "16:9"
    resolution: Resolution = "720p"
    duration: DurationEnum = "5"
    negative_prompt: str = "ugly, bad, terrible"


class TextToVideo21(Strict):  # also v2 Turbo
    prompt: str
    aspect_ratio: AspectRatio = "16:9"
    resolution: Resolution = "720p"
    duration: int = 5
    negative_prompt: str = ""


class ImageToVideo25(TextToVideo25):
    image_url: str


class ImageToVideo22(Strict):
    image_url: str
    prompt: str
    resolution: Resolution = "720p"
    duration: DurationEnum = "5"
    negative_prompt: str = ""


class ImageToVideo21(Strict):  # also v2 Turbo
    image_url: str
    prompt: str
    resolution: Resolution = "720p"
    duration: int = 5
    negative_prompt: str = ""


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    duration: int = 5
    prompt: str | None = None


class Pikaframes(Strict):
    image_urls: list[str] = Field(min_length=2, max_length=5)
    transitions: list[Transition] | None = None
    prompt: str | None = None
    negative_prompt: str = ""
    resolution: Resolution = "720p"

    @model_validator(mode="after")
    def _transitions_fit(self) -> Pikaframes:
        if self.transitions is None:
            return self
        if len(self.transitions) != len(self.image_urls) - 1:
            raise ValueError("transitions: length must be len(image_urls) - 1")
        if sum(t.duration for t in self.transitions) > 25:
            raise ValueError("transitions: total duration must not exceed 25 seconds")
        return self


class Pikascenes(Strict):
    image_urls: list[str] = Field(min_length=1)
    prompt: str
    negative_prompt: str = "ugly, bad, terrible"
    aspect_ratio: AspectRatio = "16:9"
    resolution: Resolution = "1080p"
    duration: DurationEnum = "5"
    ingredients_mode: Literal["precise", "creative"] = "precise"


class Pikaffects(Strict):
    image_url: str
    pikaffect: Pikaffect
    prompt: str | None = None
    negative_prompt: str | None = None


class Pikadditions(Strict):
    video_url: str
    image_url: str
    prompt: str | None = None
    negative_prompt: str | None = None


class Pikaswaps(Strict):
    video_url: str
    image_url: str | None = None
    modify_region: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None


SCHEMAS: dict[str, type[Strict]] = {
    "fal-ai/pika/v2.5/text-to-video": TextToVideo25,
    "fal-ai/pika/v2.2/text-to-video": TextToVideo22,
    "fal-ai/pika/v2.1/text-to-video": TextToVideo21,
    "fal-ai/pika/v2/turbo/text-to-video": TextToVideo21,
    "fal-ai/pika/v2.5/image-to-video": ImageToVideo25,
    "fal-ai/pika/v2.2/image-to-video": ImageToVideo22,
    "fal-ai/pika/v2.1/image-to-video": ImageToVideo21,
    "fal-ai/pika/v2/turbo/image-to-video": ImageToVideo21,
    "fal-ai/pika/v2.2/pikaframes": Pikaframes,
    "fal-ai/pika/v2.2/pikascenes": Pikascenes,
    "fal-ai/pika/v1.5/pikaffects": Pikaffects,
    "fal-ai/pika/v2/pikadditions": Pikadditions,
    "fal-ai/pika/v2/pikaswaps": Pikaswaps,
}

SHORT_SIDE = {"480p": 480, "720p": 720, "1080p": 1080}


def validate(endpoint: str, body: Any, model: type[BaseModel] | None = None
             ) -> tuple[Any, list[dict[str, Any]]]:
    """The parsed input, or fal's 422 `detail` list. `model`: the endpoint's schema as a
    test changed it (tests/fakefal/platform.py), else the one above."""
    try:
        return (model or SCHEMAS[endpoint]).model_validate(body), []
    except ValidationError as exc:
        return None, [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                      for e in exc.errors(include_url=False, include_context=False)]


def expected_output(model: BaseModel) -> tuple[int, int, float]:
    """Width, height and seconds of the video this input produces.

    Short side from the resolution (720p when the endpoint has none), long side
    from the aspect ratio (16:9 when none), both even; seconds from `duration`,
    Pikaframes from its transitions (5 s each by default), else 5.
    """
    data = model.model_dump()
    short = SHORT_SIDE[data.get("resolution") or "720p"]
    w, h = (int(x) for x in (data.get("aspect_ratio") or "16:9").split(":"))
    long = round(short * max(w, h) / min(w, h) / 2) * 2
    size = (long, short) if w >= h else (short, long)
    if isinstance(model, Pikaframes):
        steps = model.transitions or [Transition()] * (len(model.image_urls) - 1)
        return (*size, float(sum(t.duration for t in steps)))
    return (*size, float(int(data.get("duration") or 5)))


def media_fields(model: BaseModel) -> list[tuple[str, str, str]]:
    """(field, kind, url) for every file the input points at."""
    out = []
    for name in ("image_url", "video_url"):
        value = getattr(model, name, None)
        if value:
            out.append((name, "video" if name == "video_url" else "image", value))
    for index, value in enumerate(getattr(model, "image_urls", None) or []):
        out.append((f"image_urls.{index}", "image", value))
    return out
