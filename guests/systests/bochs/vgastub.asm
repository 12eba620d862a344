; A 32 KiB option ROM for Bochs' VGA ROM slot that only returns: Debian's Bochs has no VGA
; BIOS file, and the guests print to COM1 anyway. Signature 55 AA, size in 512-byte blocks,
; entry at offset 3 (RETF), and a last byte that makes the bytes sum to 0 mod 256.
    db 0x55, 0xaa, 64
    retf
    times 32768 - 1 - ($ - $$) db 0
    db (0x100 - ((0x55 + 0xaa + 64 + 0xcb) & 0xff)) & 0xff
