"""The Africa's Talking emulator's background sender (core.background): posts delivery reports when they fall due.
AfricasTalkingEmulatorConfig.ready() registers the round (services.run_due) with `serve`."""

from core.background import BackgroundSender

_sender = BackgroundSender("africastalking-emulator-dispatcher")

serve = _sender.serve
wake = _sender.wake
stop = _sender.stop
