"""The Daraja emulator's background sender (core.background): settles pushes and sends callbacks when they fall
due. DarajaEmulatorConfig.ready() registers the round (services.run_due) with `serve`."""

from core.background import BackgroundSender

_sender = BackgroundSender("daraja-emulator-dispatcher")

serve = _sender.serve
wake = _sender.wake
stop = _sender.stop
