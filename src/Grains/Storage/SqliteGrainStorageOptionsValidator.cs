namespace AgentTheater.Grains.Storage;

/// <summary>
/// Checks a named <see cref="SqliteGrainStorageOptions"/> when the silo starts, and creates the
/// database directory so that a path that cannot work fails here, with the option and path named.
/// </summary>
internal sealed class SqliteGrainStorageOptionsValidator(SqliteGrainStorageOptions options, string name) : IConfigurationValidator
{
    public void ValidateConfiguration()
    {
        var prefix = $"{nameof(SqliteGrainStorageOptions)} for grain storage '{name}':";
        if (string.IsNullOrWhiteSpace(options.DatabasePath))
        {
            throw new OrleansConfigurationException($"{prefix} {nameof(SqliteGrainStorageOptions.DatabasePath)} is required.");
        }

        string fullPath;
        try
        {
            fullPath = Path.GetFullPath(options.DatabasePath);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new OrleansConfigurationException(
                $"{prefix} {nameof(SqliteGrainStorageOptions.DatabasePath)} '{options.DatabasePath}' is not a valid path: {ex.Message}", ex);
        }

        var directory = Path.GetDirectoryName(fullPath);
        if (directory is not null)
        {
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new OrleansConfigurationException(
                    $"{prefix} cannot create the directory '{directory}' for {nameof(SqliteGrainStorageOptions.DatabasePath)} '{options.DatabasePath}': {ex.Message}", ex);
            }
        }

        if (options.BusyTimeout <= TimeSpan.Zero || options.BusyTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new OrleansConfigurationException(
                $"{prefix} {nameof(SqliteGrainStorageOptions.BusyTimeout)} must be positive and under {int.MaxValue} ms; it is {options.BusyTimeout}.");
        }

        if (options.MaxWriteBatchSize < 1)
        {
            throw new OrleansConfigurationException(
                $"{prefix} {nameof(SqliteGrainStorageOptions.MaxWriteBatchSize)} must be at least 1; it is {options.MaxWriteBatchSize}.");
        }

        if (options.GrainStorageSerializer is null)
        {
            throw new OrleansConfigurationException($"{prefix} {nameof(SqliteGrainStorageOptions.GrainStorageSerializer)} is not set.");
        }
    }
}
