"""gunicorn's logger with the token of every /payments/<kind>/<token>/ path masked, in the access log and the error
log alike. render.yaml starts gunicorn with --logger-class config.gunicorn_logging.TokenMaskingLogger."""

import logging

from gunicorn.glogging import Logger

from core.redact import mask_payment_tokens


class TokenMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = mask_payment_tokens(message)
        if safe != message:
            record.msg, record.args = safe, None
        return True


class TokenMaskingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, TokenMaskingFilter) for existing in log.filters):
                log.addFilter(TokenMaskingFilter())
