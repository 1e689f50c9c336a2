// "Your first service": the simulation as a runner program (--seeds, --seed, --explore, ...).
#include "moonpool/runner/main.h"
#include "tally_sim.h"

int main(int argc, char** argv) {
  return moonpool::runMain(argc, argv, guide::tallySimulation());
}
