"""Reading what an outside service POSTs to us: the caller's address and the body exactly as it arrived."""


def client_ip(request, *, trusted_proxies: int) -> str | None:
    """The caller's address: REMOTE_ADDR, or the entry our trusted proxies appended to X-Forwarded-For."""
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if trusted_proxies and len(forwarded) >= trusted_proxies:
        address = forwarded[-trusted_proxies]
    else:
        address = request.META.get("REMOTE_ADDR")
    if address and address.startswith("::ffff:"):
        address = address[7:]
    return address or None


def received_body(request, *, limit: int) -> tuple[bytes, int]:
    """The body's first `limit` bytes and how many bytes arrived. Read from the stream rather than `request.body`,
    which refuses a body past DATA_UPLOAD_MAX_MEMORY_SIZE before it could be recorded."""
    kept = b""
    while len(kept) < limit and (chunk := request.read(limit - len(kept))):
        kept += chunk
    size = len(kept)
    while chunk := request.read(limit):
        size += len(chunk)
    return kept, size
