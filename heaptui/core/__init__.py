"""The vocabulary every layer shares: capture columns, edge labels, errors, texts, numbers.

Standard library only, and importing nothing else from heaptui: the capture side loads these
modules inside the target program, and the model, the exports, the report and the UI all
speak in them. Nothing here may import capture, model, transport, ui or commands.
"""
