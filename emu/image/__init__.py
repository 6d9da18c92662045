"""MCUboot images: format, keys, trailer, signing, verification and inspection."""
