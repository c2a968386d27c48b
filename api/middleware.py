"""Under /api/ no error is an HTML page: whatever answered with one (no such path, a 400 from a middleware, the 500
page) is replaced by problem+json with the same status."""

from api.errors import PROBLEM_JSON, problem, problem_json_response

API_PREFIX = "/api/"
DOCS_PATH = "/api/docs/"


class ProblemJsonMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(API_PREFIX)
            or request.path.startswith(DOCS_PATH)
            or response.get("Content-Type", "").startswith((PROBLEM_JSON, "application/json"))
        ):
            return response
        status = response.status_code
        code = {404: "not_found", 400: "bad_request", 403: "forbidden", 405: "method_not_allowed"}.get(status, "error")
        body = problem(status=status, code=code)
        body["instance"] = request.path
        headers = {name: response[name] for name in ("Allow", "Retry-After") if response.has_header(name)}
        return problem_json_response(body, headers=headers)
