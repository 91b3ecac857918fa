"""The name prefix of every thread the live agent starts.

Said once because two sides depend on it: the agent (and its RSS watcher) names its threads
with it, and the capture leaves threads so named out of the snapshot's roots, since they are
heaptui's, not the program's.
"""

AGENT_THREAD_PREFIX = "heaptui-agent"
