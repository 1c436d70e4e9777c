from django.http import HttpResponse


def home(request):
    return HttpResponse("placeholder")


story_detail = topic_detail = provider_detail = home
