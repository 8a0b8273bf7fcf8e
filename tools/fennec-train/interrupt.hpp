// SPDX-License-Identifier: Apache-2.0
// SIGINT and SIGTERM during training: the first one only raises a flag, which the training loop
// checks after every step (so the step finishes and the state is saved); a second one restores
// the default action and re-raises the signal, ending the program at once.
#pragma once

namespace fennec_train {

void install_interrupt_handlers();
// 0 while no signal arrived, else the signal number.
int interrupt_signal();
const char* signal_name(int sig);

}  // namespace fennec_train
