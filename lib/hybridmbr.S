/* hybridmbr.S: esximg's isohybrid MBR boot program, the first 432 bytes of the MBR that
 * `esximg usb` and `esximg edit --hybrid` write (lib/isohybrid.c adds the rest: at offset 432
 * the 512-byte sector of ISOLINUX.BIN as a 64-bit number, the disk signature, the partition
 * table and 55 AA).
 *
 * Written for esximg from the interface alone (docs/usb.md): BIOS loads this sector at
 * 0000:7C00 with DL = the drive.  The program moves itself to 0000:0600, reads the first
 * 2048 bytes of ISOLINUX.BIN (what El Torito loads from a CD: ISOLINUX.BIN loads the rest of
 * itself) to 0000:7C00, checks isolinux's hybrid signature (the u32 0x7078c0fb at 0x7C40)
 * and enters ISOLINUX.BIN at 0000:7C44 with, on the stack (top first): the EBIOS flag, the
 * CHS sectors per track, the CHS heads, DX as BIOS gave it, DI, ES, and the 64-bit sector at
 * which the ISO starts on the disk (0: the ISO is the disk).  This is the hand-off of syslinux
 * 3.81 and later (core/isolinux.asm pops exactly these; it takes the 64-bit offset as absent
 * when SP >= 0x7C00 after its pops, so the stack starts at 0x7C00).  Sectors are read with
 * the INT 13h extensions (AH=42h) when AH=41h reports them, else by CHS (AH=02h) with the
 * geometry of AH=08h.  On any failure a one-line message is printed and INT 18h asks BIOS
 * to try the next boot device.
 *
 * `sh lib/mkhybridmbr.sh` assembles it (GNU as and ld, linked at 0x0600) and regenerates
 * lib/hybridmbr.c; the build uses that checked-in array and needs no assembler.  An 80386
 * is assumed (ISOLINUX needs one too).
 *
 * SPDX-License-Identifier: BSD-2-Clause */
    .code16
    .intel_syntax noprefix
    .text
    .globl start

    .set RELOC, 0x0600          /* where the program runs once moved (it is linked there) */
    .set LOAD, 0x7c00           /* where BIOS loads it and ISOLINUX.BIN goes */
    .set SIG, 0x7078c0fb        /* isolinux.bin's hybrid signature at file offset 0x40 */
    .set ENTRY, LOAD + 0x44     /* its hybrid entry point, just after the signature */
    .set SECTORS, 4             /* 2048 bytes, as El Torito loads from a CD */
    .set DEF_HEADS, 64          /* the geometry of esximg's partition table, handed on */
    .set DEF_SPT, 32            /* when BIOS reports none but has the extensions */

/* The hand-off is built on the stack as it is learnt, and the code reads it back through
 * BP: [bp+0] EBIOS flag, [bp+2] sectors per track, [bp+4] heads, [bp+6] DX (DL the
 * drive), [bp+8] DI, [bp+10] ES, [bp+12] the 64-bit sector of the ISO on the disk.  The
 * disk address packet of AH=42h sits below it, at SI, and serves the CHS reads too. */
start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, LOAD
    push eax                    /* the ISO's first sector on the disk, bits 32..63: 0 */
    push eax                    /* bits 0..31 (ISOLINUX pops them first) */
    push es                     /* ES:DI as BIOS left them (a PnP BIOS points at $PnP) */
    push di
    push dx
    mov ds, ax
    mov es, ax
    cld
    mov si, LOAD
    mov di, RELOC
    mov cx, 256
    rep movsw
    ljmp 0, offset moved        /* CS = 0 from here on */

moved:
    sti
    /* INT 13h extensions (AH=41h, BX=55AAh): present when CF is clear, BX = AA55h and CX
     * bit 0 (the packet calls) is set.  SI = 1 then, else 0. */
    mov ah, 0x41
    mov bx, 0x55aa
    int 0x13
    mov si, 0
    jc geometry
    cmp bx, 0xaa55
    jne geometry
    and cx, 1
    mov si, cx

geometry:
    /* AH=08h: CL bits 0..5 the sectors per track, DH the highest head. */
    pop dx
    push dx
    mov ah, 0x08
    xor di, di                  /* ES:DI = 0:0 works around BIOSes that read it */
    int 0x13
    push ds
    pop es
    jc no_geometry
    and cx, 0x3f
    jz no_geometry
    movzx ax, dh
    inc ax
    jmp have_geometry
no_geometry:
    mov ax, DEF_HEADS
    mov cx, DEF_SPT
    test si, si
    jnz have_geometry
    mov si, offset msg_geometry
    jmp fail
have_geometry:
    push ax                     /* heads */
    push cx                     /* sectors per track */
    push si                     /* EBIOS flag */
    mov bp, sp

    /* The packet: ISOLINUX.BIN's sector from offset 432 of this MBR, one sector at a time
     * to 0000:7C00 onwards. */
    push dword ptr [start + 436]
    push dword ptr [start + 432]
    push ds
    push LOAD
    push 1
    push 16
    mov si, sp
    mov di, SECTORS
next_sector:
    call read_sector
    jnc sector_read
    xor ax, ax                  /* reset the drive and try once more */
    int 0x13
    call read_sector
    mov si, offset msg_read
    jc fail
sector_read:
    add word ptr [si + 4], 512
    add dword ptr [si + 8], 1
    adc dword ptr [si + 12], 0
    dec di
    jnz next_sector

    cmp dword ptr [LOAD + 0x40], SIG
    mov si, offset msg_sig
    jne fail
    mov sp, bp
    ljmp 0, ENTRY

/* One sector from the packet at SI; CF set on failure; DL left as the drive. */
read_sector:
    mov dl, [bp + 6]
    cmp byte ptr [bp], 0
    je read_chs
    mov ah, 0x42
    int 0x13
    ret
read_chs:
    cmp dword ptr [si + 12], 0
    jne chs_beyond
    mov eax, [si + 8]
    xor edx, edx
    movzx ecx, word ptr [bp + 2]
    div ecx                     /* eax = track, edx = sector - 1 */
    inc dx
    mov bx, dx
    xor edx, edx
    movzx ecx, word ptr [bp + 4]
    div ecx                     /* eax = cylinder, edx = head */
    cmp eax, 1023
    ja chs_beyond
    mov cl, bl                  /* CL: sector 1..63, cylinder bits 8..9 in bits 6..7 */
    shl ah, 6
    or cl, ah
    mov ch, al
    mov dh, dl
    mov dl, [bp + 6]
    mov bx, [si + 4]
    mov ax, 0x0201
    int 0x13
    ret
chs_beyond:
    stc                         /* past what CHS can address */
    ret

/* Prints "esximg MBR: " and the message at SI, then gives up. */
fail:
    push si
    mov si, offset msg_prefix
    call print
    pop si
    call print
    int 0x18                    /* BIOS: boot from the next device */
halt:
    hlt
    jmp halt

print:
    lodsb
    test al, al
    jz printed
    mov ah, 0x0e
    mov bx, 0x0007
    int 0x10
    jmp print
printed:
    ret

msg_prefix:
    .asciz "esximg MBR: "
msg_geometry:
    .asciz "no disk geometry\r\n"
msg_read:
    .asciz "cannot read ISOLINUX.BIN\r\n"
msg_sig:
    .asciz "ISOLINUX.BIN has no hybrid entry\r\n"
