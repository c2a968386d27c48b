import gc
import os

import django
from django.urls import get_resolver

from core.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

# As django.core.wsgi.get_wsgi_application, with the handler whose requests are emptied when closed (core/wsgi.py).
django.setup(set_prefix=False)
application = WSGIHandler()

# What a worker loads before its first request (settings, apps, models, every view through the URLconf) lives as
# long as the process: frozen, the garbage collector stops scanning it on every older-generation collection. 1.3%
# of a dated search page's and 1.5% of the property page's instructions (bench/instructions.py's count, with the
# process frozen after its warm-up requests).
get_resolver().url_patterns  # noqa: B018 (imports every view)
gc.freeze()
# The read path's pages leave no garbage (core/wsgi.py); a page that still does (a template looked for under several
# names, each miss an exception and its traceback) leaves it to the youngest generation. Collected every 10,000
# allocations rather than every 700, most objects are freed by their count before a collection looks at them: 1.7%
# of the property page's instructions, 1.0% of a dated search's, 1.5% of the payment-status poll's when their
# requests were still cycles (bench/instructions.py's count with the process frozen, as here).
gc.set_threshold(10_000, 10, 10)
