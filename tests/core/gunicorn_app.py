"""A WSGI app that answers every request, for running gunicorn with the blueprint's own options."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
