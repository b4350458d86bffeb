# The old backend as a WSGI application: `gunicorn --chdir tests/support/django wsgi:application`.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

# Each worker loads the API at boot, not on its first request (the bench's warm-up may not reach
# every worker).
import urls  # noqa: E402, F401
