from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from core.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "phone", "phone_verified", "full_name", "mpesa_phone", "is_staff", "date_joined"]
    search_fields = ["email", "phone", "full_name", "mpesa_phone"]
    fieldsets = [
        (None, {"fields": ["email", "phone", "phone_verified", "password"]}),
        ("Profile", {"fields": ["full_name", "mpesa_phone"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
