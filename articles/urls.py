from django.urls import path

from articles import feeds, search, views

app_name = "articles"
urlpatterns = [
    path("articles/<slug:slug>/", views.article_detail, name="detail"),
    path("articles/<slug:slug>/downloads/<int:attachment_id>/", views.download, name="download"),
    path("topics/<slug:slug>/", views.topic, name="topic"),
    path("topics/<slug:slug>/feed/", feeds.TopicFeed(), name="topic_feed"),
    path("search/", search.search, name="search"),
    path("people/<slug:slug>/", views.person, name="person"),
]
