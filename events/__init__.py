"""The event model: every record on every topic, its envelope, codec and topic catalog.

Pure data and codec (stdlib + msgspec only); nothing here does I/O. Start with:

* :mod:`events.catalog`: topics, their keys, value unions and configs;
* :mod:`events.envelope`: the fields every record carries, ``new_envelope``/``caused_by``;
* :mod:`events.codec`: ``codec_for(topic).encode(record)`` / ``.decode(value, headers)``;
* :mod:`events.upcasting` and :mod:`events.legacy`: reading older schema versions;
* :mod:`events.schema_export`: JSON Schemas, fingerprints and golden samples;
* record types by area: :mod:`events.thread`, :mod:`events.tools`, :mod:`events.files`,
  :mod:`events.users`, :mod:`events.billing`, :mod:`events.payments`, :mod:`events.admin`;
  value objects in :mod:`events.messages` and :mod:`events.usage`.

``docs/topics.md`` explains the catalog and the evolution rules.
"""
