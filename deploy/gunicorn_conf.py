"""gunicorn's settings behind nginx (``deploy/serve.py`` adds the bind, workers and logs).

Threaded workers: nginx has already read each request and buffers each answer, so a
thread is never held by a slow client; a worker runs ``threads`` requests at once, and
the app's admission slots bound how many of them may be expensive (``VNSEARCH_HEAVY_SLOTS``).
"""

wsgi_app = "api:get_app()"
worker_class = "gthread"
threads = 4
preload_app = True  # the settings are read and checked once, in the master
timeout = 30  # a worker whose main loop stops answering this long is replaced
graceful_timeout = 10  # on SIGTERM, requests in flight get this long to finish
keepalive = 30  # nginx keeps upstream connections open, and closes idle ones at 20 s
limit_request_line = 0  # nginx already refuses request lines over 8 KB (a JSON 414)
limit_request_fields = 100
limit_request_field_size = 8190
backlog = 256
forwarded_allow_ips = "127.0.0.1"
accesslog = None  # nginx logs every request
capture_output = True  # anything printed goes to the error log too
