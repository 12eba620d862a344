; Reads guestinfo variables through VMware's backdoor port as open-vm-tools'
; `vmware-rpctool "info-get guestinfo.ovfEnv"` does (lib/rpcOut/rpcout.c over
; lib/message/message.c, without the high-bandwidth port) and prints them on COM1:
;   getversion eax=... ebx=... ecx=...     (BDOOR_CMD_GETVERSION: EBX = 'VMXh' on VMware)
;   rpc <command>
;   reply <size> [<text>]                  (then a line "end")
; for guestinfo.ovfEnv and for a key that is not there. Constants: backdoor_def.h and
; guest_msg_def.h (open-vm-tools lib/include).
%include "lib.inc"

BDOOR_MAGIC     equ 0x564D5868      ; 'VMXh'
BDOOR_PORT      equ 0x5658
CMD_GETVERSION  equ 10
CMD_MESSAGE     equ 30
T_OPEN          equ 0               ; MessageType
T_SENDSIZE      equ 1
T_SENDPAYLOAD   equ 2
T_RECVSIZE      equ 3
T_RECVPAYLOAD   equ 4
T_RECVSTATUS    equ 5
T_CLOSE         equ 6
S_SUCCESS       equ 0x0001          ; MESSAGE_STATUS_SUCCESS
S_DORECV        equ 0x0002          ; MESSAGE_STATUS_DORECV
RPCI            equ 0x49435052      ; RPCI_PROTOCOL_NUM
FLAG_COOKIE     equ 0x80000000      ; GUESTMSG_FLAG_COOKIE
MAX_REPLY       equ 65536

main:
    mov eax, BDOOR_MAGIC
    mov ebx, 0
    mov ecx, CMD_GETVERSION
    mov edx, BDOOR_PORT
    in eax, dx
    PUTS "getversion eax="
    PHEX eax
    PUTS " ebx="
    PHEX ebx
    PUTS " ecx="
    PHEX ecx
    NL
    cmp ebx, BDOOR_MAGIC
    jne .novm
    mov esi, cmd_env
    call rpc
    mov esi, cmd_none
    call rpc
    ret
.novm:
    PUTSN "no VMware backdoor"
    ret

; rpc: esi -> NUL-terminated RPCI command; opens a channel, sends it, prints the reply.
rpc:
    PUTS "rpc "
    call puts
    NL
    ; length of the command
    mov edi, esi
    xor ecx, ecx
.len:
    cmp byte [edi + ecx], 0
    je .open
    inc ecx
    jmp .len
.open:
    mov [cmd_ptr], esi
    mov [cmd_len], ecx
    mov eax, BDOOR_MAGIC
    mov ebx, RPCI | FLAG_COOKIE
    mov ecx, CMD_MESSAGE | (T_OPEN << 16)
    mov edx, BDOOR_PORT
    in eax, dx
    test ecx, S_SUCCESS << 16
    jz .fail_open
    mov [chan], edx                 ; channel id in the high half
    mov [cookie_hi], esi
    mov [cookie_lo], edi
    ; SENDSIZE
    mov ebx, [cmd_len]
    mov ecx, CMD_MESSAGE | (T_SENDSIZE << 16)
    call bdoor
    test ecx, S_SUCCESS << 16
    jz .fail
    ; SENDPAYLOAD, 4 bytes per call
    mov ebp, 0
.send:
    cmp ebp, [cmd_len]
    jae .recv
    mov eax, [cmd_ptr]
    mov ebx, [eax + ebp]            ; may read past the NUL: harmless, the size bounds it
    mov ecx, CMD_MESSAGE | (T_SENDPAYLOAD << 16)
    call bdoor
    test ecx, S_SUCCESS << 16
    jz .fail
    add ebp, 4
    jmp .send
.recv:
    mov ecx, CMD_MESSAGE | (T_RECVSIZE << 16)
    call bdoor
    test ecx, S_SUCCESS << 16
    jz .fail
    test ecx, S_DORECV << 16
    jz .fail
    shr edx, 16
    cmp edx, T_SENDSIZE
    jne .fail
    cmp ebx, MAX_REPLY
    ja .fail
    mov [reply_len], ebx
    PUTS "reply "
    PHEX ebx
    PUTS " "
    mov ebp, 0
.payload:
    cmp ebp, [reply_len]
    jae .status
    mov ebx, S_SUCCESS
    mov ecx, CMD_MESSAGE | (T_RECVPAYLOAD << 16)
    call bdoor
    test ecx, S_SUCCESS << 16
    jz .fail
    shr edx, 16
    cmp edx, T_SENDPAYLOAD
    jne .fail
    mov [reply + ebp], ebx
    add ebp, 4
    jmp .payload
.status:
    mov eax, [reply_len]
    mov byte [reply + eax], 0
    mov esi, reply
    call puts
    NL
    PUTSN "end"
    mov ebx, S_SUCCESS
    mov ecx, CMD_MESSAGE | (T_RECVSTATUS << 16)
    call bdoor
    mov ecx, CMD_MESSAGE | (T_CLOSE << 16)
    call bdoor
    ret
.fail:
    PUTS "rpc failed ecx="
    PHEX ecx
    NL
    ret
.fail_open:
    PUTSN "rpc open failed"
    ret

; bdoor: one message call on the open channel; EBX and ECX in, registers out.
bdoor:
    mov eax, BDOOR_MAGIC
    mov edx, [chan]
    and edx, 0xffff0000
    or edx, BDOOR_PORT
    mov esi, [cookie_hi]
    mov edi, [cookie_lo]
    in eax, dx
    ret

cmd_env:  db "info-get guestinfo.ovfEnv", 0
cmd_none: db "info-get guestinfo.notThere", 0
align 4
chan:      dd 0
cookie_hi: dd 0
cookie_lo: dd 0
cmd_ptr:   dd 0
cmd_len:   dd 0
reply_len: dd 0

%include "end.inc"
section .bss
reply: resb MAX_REPLY + 4
