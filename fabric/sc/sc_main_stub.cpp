// libsystemc's own main() (unused: wafersim's executables have their own entry points and drive
// sc_start directly) refers to sc_main (C linkage). This weak definition is compiled into every executable that
// links the SystemC fabric (an INTERFACE source), so each links whatever parts of the library it uses.
extern "C" __attribute__((weak)) int sc_main(int, char**) { return 0; }
