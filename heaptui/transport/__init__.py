"""The live channel: the in-process agent, its wire protocol, and the viewer-side client."""
