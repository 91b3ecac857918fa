"""The bundled leaky program that ``heaptui demo`` runs, and the code that runs it."""
