from django.contrib import admin

from profiles.models import Customer, Identity


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "locale", "created_at")
    search_fields = ("name", "identities__value")
    inlines = [IdentityInline]
