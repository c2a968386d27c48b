"""A Daraja (M-Pesa) emulator served by the app itself at /daraja/ when MPESA_ENV=emulator."""
