# The old backend's transaction model (the API contract: /work/shared/API.md).
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class Transaction(models.Model):
    TYPES = [('income', 'Income'), ('expense', 'Expense')]
    PAYMENT_MODES = [('cash', 'Cash'), ('bank', 'Bank'), ('card', 'Card'), ('upi', 'UPI'), ('cheque', 'Cheque'), ('other', 'Other')]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name='transactions')
    type = models.CharField(max_length=10, choices=TYPES)
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal('0.01'))])
    category = models.CharField(max_length=100, blank=True, default='')
    description = models.CharField(max_length=1000, blank=True, default='')
    date = models.DateField()
    payment_mode = models.CharField(max_length=10, choices=PAYMENT_MODES, default='cash')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ['-date', '-created_at']
