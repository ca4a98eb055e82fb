#include <stdio.h>
int main(void) { puts("nightjar: not yet"); return 1; }
