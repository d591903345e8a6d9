"""Pika Playground core: everything but the page. Never imports Gradio."""
