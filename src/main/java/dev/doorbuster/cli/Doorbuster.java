package dev.doorbuster.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Minimal entry point so the {@code proxy} command runs before the full CLI lands; the full
 * {@code Doorbuster} command (written on main) replaces this file at merge.
 */
@Command(name = "doorbuster", mixinStandardHelpOptions = true, subcommands = {ProxyCommand.class},
        description = "Tells a team, before Black Friday, whether their PostgreSQL-backed service survives it.")
public final class Doorbuster implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Doorbuster()).execute(args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
