"""Attach by PID: start the agent inside a running Python process that never imported heaptui.

The modules here run in three interpreters, and their names say which:

- ``viewer*``: the viewer (``heaptui attach/snapshot PID``). :mod:`.viewer` orchestrates
  (``ensure_agent``, ``inject_agent``); :mod:`.viewer_errors` says why attaching failed;
  :mod:`.viewer_procfacts` reads ``/proc`` before tracing; :mod:`.viewer_walker` provides the
  private copy of the compiled walk; :mod:`.viewer_payload` builds the code sent in;
  :mod:`.viewer_gdb` runs gdb and follows its report.
- ``gdb_script``: gdb's embedded Python (``gdb -x``); never imported by heaptui.
- ``target_boot``: the target, shipped as source in the payload; never imported by heaptui.

Imports nothing, so importing one viewer module loads no other.
"""
