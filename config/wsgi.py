import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

application = get_wsgi_application()

# What a worker loads before its first request (settings, apps, models, every view through the URLconf) lives as
# long as the process: frozen, the garbage collector stops scanning it on every older-generation collection. 1.3%
# of a dated search page's and 1.5% of the property page's instructions (bench/instructions.py's count, with the
# process frozen after its warm-up requests).
get_resolver().url_patterns  # noqa: B018 (imports every view)
gc.freeze()
