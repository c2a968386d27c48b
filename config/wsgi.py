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
# A request leaves its garbage (request, response and resolver cycles) to the youngest generation; collecting it every
# 10,000 allocations rather than every 700 leaves most objects freed by their count before a collection looks at
# them: 1.7% of the property page's instructions, 1.0% of a dated search's, 1.5% of the payment-status poll's
# (bench/instructions.py's count with the process frozen, as here), for a few MB more between collections.
gc.set_threshold(10_000, 10, 10)
