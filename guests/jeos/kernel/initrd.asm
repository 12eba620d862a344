; The user programs, linked into the kernel image as ELF files. The build script builds
; them into build/user/ first.

section .rodata
align 4
prog_init:
    incbin "build/user/init.elf"
prog_init_end:
align 4
prog_echo:
    incbin "build/user/echo.elf"
prog_echo_end:
align 4
prog_true:
    incbin "build/user/true.elf"
prog_true_end:

name_init: db "init", 0
name_echo: db "echo", 0
name_true: db "true", 0

align 4
global initrd_table
initrd_table:                       ; struct initrd_file { name, start, end }
    dd name_init, prog_init, prog_init_end
    dd name_echo, prog_echo, prog_echo_end
    dd name_true, prog_true, prog_true_end
    dd 0, 0, 0
