/* The semaphore-guarded marker of targets/sdt.c: it fires only while a tracer has raised
 * app_guarded_semaphore (a 16-bit counter in section .probes, named PROVIDER_NAME_semaphore). */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

unsigned short app_guarded_semaphore __attribute__((unused)) __attribute__((section(".probes")));

__attribute__((noinline)) void guarded(int i)
{
    if (app_guarded_semaphore)
        STAP_PROBE2(app, guarded, i, (long)app_guarded_semaphore);
}
