; The smallest guest: prints the loader's magic and exits. Checks the runtime itself.
%include "lib.inc"
main:
    PUTS "eax="
    PHEX [mb_eax]
    NL
    ret
%include "end.inc"
