# The old backend's transactions API, served by `npm run bench` beside this project (mode
# `django`, scripts/bench/django.ts) so that both are measured on one machine in one run: a DRF
# ModelViewSet scoped to the caller, SimpleJWT's JWTAuthentication (which loads the user row on
# every request), page-number pagination of 20 (a COUNT and a page query), CONN_MAX_AGE = 0
# (settings.py: a connection per request, closed when the response is done), under gunicorn.
from django.utils import timezone
from rest_framework import pagination, routers, serializers, viewsets

from transactions.models import Transaction


class TransactionSerializer(serializers.ModelSerializer):
    date = serializers.DateField(default=lambda: timezone.now().date())

    class Meta:
        model = Transaction
        fields = ['id', 'type', 'amount', 'category', 'description', 'date', 'payment_mode', 'created_at', 'updated_at']
        read_only_fields = ['id', 'created_at', 'updated_at']


class Pages(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = 'page_size'
    max_page_size = 100


class TransactionViewSet(viewsets.ModelViewSet):
    serializer_class = TransactionSerializer
    pagination_class = Pages

    def get_queryset(self):
        return Transaction.objects.filter(user=self.request.user)

    def perform_create(self, serializer):
        serializer.save(user=self.request.user)


router = routers.SimpleRouter()
router.register('api/transactions', TransactionViewSet, basename='transaction')
urlpatterns = router.urls
