from django.contrib import admin

from profiles.models import AttributeDefinition, BlockedIdentity, Customer, Identity, ResolutionRule, Tag


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "locale", "created_at")
    search_fields = ("name", "identities__value")
    inlines = [IdentityInline]


# Workspace settings without pages of their own yet: admins edit them here.
@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(admin.ModelAdmin):
    list_display = ("label", "key", "type")
    search_fields = ("label", "key")


@admin.register(ResolutionRule)
class ResolutionRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "action", "priority", "max_per_customer")


@admin.register(BlockedIdentity)
class BlockedIdentityAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "reason")
    list_filter = ("kind",)
    search_fields = ("value",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)
