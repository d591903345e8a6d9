"""The page: Gradio only. Turns catalog entries into forms and job events into updates."""
