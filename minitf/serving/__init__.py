"""A TensorFlow-Serving-compatible REST model server (``python -m minitf.serving``).

Speaks TF Serving's REST API (``/v1/models/NAME[/versions/V][:predict|/metadata]``) over
Starlette on uvicorn, serving minitf SavedModels from numeric version directories.

* ``config``   - TF Serving's text-proto files (model_config_list, batching parameters)
* ``servable`` - one loaded version: its signatures and a thread-safe ``run``
* ``manager``  - versions on disk: polling, loading, unloading, status
* ``protocol`` - request bodies to arrays and arrays to response bodies, TF Serving's errors
* ``batching`` - server-side dynamic batching of concurrent requests
* ``app``      - the ASGI application and the page at ``/`` (``static/index.html``)
* ``background`` - the server in a thread of this process, for notebooks and tests

Nothing in minitf's core imports this package; it needs the ``course`` extra (Starlette, uvicorn).
"""
