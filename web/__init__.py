"""The Gradio chat app: one shared answering service, a locked-down server, streamed cited answers."""
