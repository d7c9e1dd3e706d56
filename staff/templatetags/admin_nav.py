"""The admin's sidebar, drawn once per kind of login (staff.admin.site.nav_sidebar)."""

from django import template

from staff.admin.site import nav_sidebar

register = template.Library()


@register.simple_tag(takes_context=True)
def kept_nav_sidebar(context):
    return nav_sidebar(context)
