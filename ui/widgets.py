"""One catalog property -> one widget, and the update that fits it to another version."""

from __future__ import annotations

from typing import Any

import gradio as gr

from playground.catalog import Schema
from ui.lenient import lenient

PLACEHOLDERS = {
    "seed": "blank = random (the seed used is shown with the result)",
    "modify_region": "e.g. the red car on the left",
}


def widget_for(name: str, prop: Schema, *, shown: bool = True) -> gr.components.Component:
    """The widget for a property. Built hidden (the first version lacks the field), it holds
    None, "not given", rather than the default: a field its version lacks is refused when
    given, and the page must not give it for the person."""
    label = prop.get("title", name)
    info = prop.get("description")
    media = prop.get("x-media") or prop.get("items", {}).get("x-media")
    if prop.get("type") == "array" and media == "image":
        return gr.Gallery(label=f"{label} ({prop.get('minItems', 1)} to {prop.get('maxItems')})",
                          type="filepath", file_types=["image"], interactive=True, columns=5,
                          height=220, object_fit="contain", visible=shown)
    if media == "image":
        return lenient(gr.Image(label=label, type="filepath", image_mode=None,
                                sources=["upload", "clipboard"], height=260, visible=shown))
    if media == "video":
        return gr.Video(label=label, sources=["upload"], height=260, visible=shown)
    if "enum" in prop:
        options = prop["enum"]
        if len(options) <= 3 or "default" not in prop:
            # Without a default (fal has none for an effect) every choice is in view, named,
            # and none is taken for the person: a dropdown would preselect one and take
            # typing ("Mel" + Enter ran its first match).
            return lenient(gr.Radio(options, value=prop.get("default") if shown else None,
                                    label=label, info=info, visible=shown))
        return lenient(gr.Dropdown(options, value=prop.get("default", options[0]) if shown
                                   else None, label=label, info=info, visible=shown))
    if prop.get("type") == "boolean":
        # A choice, not a checkbox: a checkbox cannot hold "not given" (None), and a field
        # another version lacks must stay not given.
        default = prop.get("default")
        value = None if not shown or default is None else ("yes" if default else "no")
        return lenient(gr.Radio(["yes", "no"], value=value, label=label, info=info,
                                visible=shown))
    if name == "seed":
        # A text box, because a number box shows 0 when empty, and blank must mean "random".
        return gr.Textbox("" if shown else None, label=label, placeholder=PLACEHOLDERS["seed"],
                          max_lines=1, visible=shown)
    if prop.get("type") in ("integer", "number") and "default" not in prop:
        # As for the seed: a number box shows 0 when empty, and blank must mean "not given"
        # (fal's own default), not 0.
        return gr.Textbox("" if shown else None, label=label, info=info, max_lines=1,
                          placeholder="blank = fal's default", visible=shown)
    if prop.get("type") in ("integer", "number"):
        whole = prop.get("type") == "integer"
        return lenient(gr.Number(value=prop.get("default") if shown else None, label=label,
                                 precision=0 if whole else None,
                                 placeholder=PLACEHOLDERS.get(name), info=info,
                                 visible=shown))
    lines = 3 if name == "prompt" else 1
    return gr.Textbox(value=prop.get("default", "") if shown else None, label=label,
                      lines=lines, max_length=prop.get("maxLength"),
                      placeholder=PLACEHOLDERS.get(name), info=info, visible=shown)


def update_for(prop: Schema | None, choices: list[str] | None = None, *,
               keep: bool = False) -> dict[str, Any]:
    """Shows a widget for a version that has the field, with the person's value if `keep`
    (the version accepts it), else the version's default; hides it otherwise.

    `choices` stands in for an integer field drawn as a choice (v2.1's duration).
    """
    if prop is None:
        # Not given: what the person set for another version must not follow them here.
        return gr.update(visible=False, value=None)
    options = [str(o) for o in prop["enum"]] if prop.get("enum") else choices
    if prop.get("type") == "boolean":
        options = ["yes", "no"]
        prop = {**prop, "default": "yes" if prop["default"] else "no"} \
            if prop.get("default") is not None else prop
    update = gr.update(visible=True)
    if options:
        update |= {"choices": options, "label": prop.get("title")}
    if keep:
        return update
    if options and "default" in prop:
        return update | {"value": str(prop["default"])}
    if options:  # no default (an effect): nothing picked for the person
        return update | {"value": None}
    if "default" in prop:
        return update | {"value": prop["default"]}
    return update
