"""Owner broadcasts (``/announce``): the pure decisions, without I/O.

* :mod:`.announce_args`: the ``/announce`` grammar (recipients, text, its formatting);
* :mod:`.book`: the fold of the admin and broadcast records into what each announcement is
  at, and what a (re)started broadcaster must do next (resume decisions);
* :mod:`.pacing`: the send window that keeps every broadcast within Telegram's limits;
* :mod:`.outcomes`: a Telegram answer -> sent, blocked, failed, or try again later;
* :mod:`.policy`: the constants, each with its reason; :mod:`.texts`: what people read.
"""
