// SPDX-License-Identifier: GPL-2.0-only
// Linked with every object of one layer library and only the layers it declares (see
// CMakeLists.txt): it builds only when the layer calls nothing above it.
int main() { return 0; }
