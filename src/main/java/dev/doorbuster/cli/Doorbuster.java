package dev.doorbuster.cli;

import java.io.PrintWriter;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code doorbuster} command line: one subcommand per job. */
@Command(name = "doorbuster", mixinStandardHelpOptions = true, versionProvider = Doorbuster.Version.class,
        description = "Tells you, before Black Friday, whether your PostgreSQL-backed service survives it.",
        subcommands = {UpCommand.class, ProxyCommand.class, AppCommand.class, ReportCommand.class, BaselineCommand.class,
                PruneCommand.class,
                CommandLine.HelpCommand.class})
public final class Doorbuster implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (0 ok, 1 failure, 2 usage error). */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** As {@link #run(String...)}, printing to the given writers. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Doorbuster()).setOut(out).setErr(err);
        // picocli leaves the usage out when it has a "Did you mean" for a mistyped command; a bad command line
        // always gets both here, so the reader sees every command, not only the nearest one.
        cli.setParameterExceptionHandler((e, arguments) -> {
            CommandLine commandLine = e.getCommandLine();
            PrintWriter errors = commandLine.getErr();
            errors.println(e.getMessage());
            if (e instanceof CommandLine.UnmatchedArgumentException unmatched) {
                CommandLine.UnmatchedArgumentException.printSuggestions(unmatched, errors);
            }
            commandLine.usage(errors);
            return commandLine.getCommandSpec().exitCodeOnInvalidInput();
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("doorbuster: " + e.getMessage());
            return 1;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: choose one of "
                + String.join(", ", spec.subcommands().keySet()));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Doorbuster.class.getPackage().getImplementationVersion();
            return new String[] {"doorbuster " + (version == null ? "(development build)" : version)};
        }
    }
}
