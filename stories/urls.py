from django.urls import path

from stories import views

app_name = "stories"

urlpatterns = [
    path("", views.home, name="home"),
    path("story/<int:pk>-<slug:slug>/", views.story_detail, name="story_detail"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic_detail"),
    path("providers/<slug:slug>/", views.provider_detail, name="provider_detail"),
]
