from django.urls import path

from support import views, views_moderation

app_name = "support"

urlpatterns = [
    path("", views.support_home, name="home"),
    path("export.csv", views.support_export, name="export"),
    path("attention/", views.support_attention, name="attention"),
    path("attention/resolve/", views.attention_resolve_view, name="attention-resolve"),
    path("attention/link/", views.callback_link_view, name="callback-link"),
    path("payments/<int:payment_id>/", views.payment_page, name="payment"),
    path("payments/<int:payment_id>/query/", views.payment_query_view, name="payment-query"),
    path("payments/<int:payment_id>/refund/", views.payment_refund_view, name="payment-refund"),
    path("refunds/<int:refund_id>/approve/", views.refund_approve_view, name="refund-approve"),
    path("reports/", views_moderation.report_queue, name="reports"),
    path("reports/<int:report_id>/", views_moderation.report_act, name="report-act"),
    path("reports/reviews/<int:review_id>/restore/", views_moderation.review_restore_view, name="review-restore"),
]
