/* Probe sites whose displaced instruction is of each kind the ptrace engine handles
 * (uprobe_py/ptrace/relocate.py): RIP-relative loads and stores, direct, register and
 * memory-indirect calls, a tail jmp, short and near conditional jumps (taken and not),
 * an indirect jmp through a RIP-relative slot, ret, and `loop` (the single-step fallback).
 * Each `at_*` label is a function symbol placed on that instruction; build without -g so
 * the probes resolve from the symbol table, at exactly those addresses.
 * `insns N` runs every site N times and prints what they computed. */
#include <stdio.h>
#include <stdlib.h>

long counter;
long helper(long x) { return x + 1; }
long (*helper_ptr)(long) = helper;

long at_riprel_load(long x);
long at_riprel_store(long x);
long f_call(long x);
long f_callreg(long x, long (*fn)(long));
long f_callmem(long x);
long f_jmp(long x);
long f_jcc8(long x);
long f_jcc32(long x);
long f_jmpmem(long x);
long at_ret(void);
long f_loop(long n);

#define FN(name) ".globl " #name "\n.type " #name ",@function\n" #name ":\n"
__asm__(".text\n"
        FN(at_riprel_load) "mov counter(%rip), %rax\n add %rdi, %rax\n ret\n"
        FN(at_riprel_store) "movq $7, counter(%rip)\n mov %rdi, %rax\n ret\n"
        FN(f_call) "sub $8, %rsp\n"
        FN(at_call) "call helper\n add $8, %rsp\n ret\n"
        FN(f_callreg) "sub $8, %rsp\n"
        FN(at_callreg) "call *%rsi\n add $8, %rsp\n ret\n"
        FN(f_callmem) "sub $8, %rsp\n"
        FN(at_callmem) "call *helper_ptr(%rip)\n add $8, %rsp\n ret\n"
        FN(f_jmp) "nop\n"
        FN(at_jmp) "jmp helper\n"
        FN(f_jcc8) "test $1, %dil\n"
        FN(at_jcc8) "jz 1f\n mov $100, %rax\n ret\n1: mov $200, %rax\n ret\n"
        FN(f_jcc32) "test $1, %dil\n"
        FN(at_jcc32) "jz 2f\n mov $300, %rax\n ret\n .skip 300, 0x90\n2: mov $400, %rax\n ret\n"
        FN(f_jmpmem) "nop\n"
        FN(at_jmpmem) "jmp *helper_ptr(%rip)\n"
        FN(at_ret) "ret\n"
        FN(f_loop) "mov %rdi, %rcx\n xor %eax, %eax\n3: inc %rax\n"
        FN(at_loop) "loop 3b\n ret\n");

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10, sum = 0;
    for (long i = 0; i < n; i++) {
        sum += at_riprel_load(i);
        sum += at_riprel_store(i) + counter;
        sum += f_call(i) + f_callreg(i, helper) + f_callmem(i) + f_jmp(i);
        sum += f_jcc8(i) + f_jcc32(i) + f_jmpmem(i) + f_loop(3);
        at_ret();
    }
    printf("n=%ld sum=%ld counter=%ld\n", n, sum, counter);
    return (int)(sum % 7);
}
