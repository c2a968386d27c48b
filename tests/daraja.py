"""Point the Daraja client at the emulator served by the test's live server, with delays scaled down."""


def use_emulator(settings, live_server, **overrides) -> None:
    settings.MPESA_ENV = "emulator"
    settings.MPESA_BASE_URL = live_server.url + "/daraja"
    settings.MPESA_CALLBACK_BASE_URL = live_server.url
    settings.MPESA_CONSUMER_KEY = settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_SHORTCODE = settings.MPESA_PASSKEY = ""
    settings.MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = 0.2
    settings.MPESA_EMULATOR_TIMEOUT_SECONDS = 0.3
    settings.MPESA_EMULATOR_LATE_CALLBACK_SECONDS = 2
    settings.MPESA_EMULATOR_QUERY_NOT_FOUND_SECONDS = 0
    for name, value in overrides.items():
        setattr(settings, name, value)
