import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.Properties;

/**
 * A JDBC client as a BI tool is one: the official ClickHouse driver, a connection
 * URL, a user and password, a prepared statement with `?` parameters. Prints each
 * row as one JSON object of strings (SQL NULL as null); a SQLException goes to
 * stderr with exit code 2.
 *
 * Usage: java JdbcQuery <jdbc-url> <user> <password> <sql> [parameter…]
 */
public final class JdbcQuery {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", args[1]);
    props.setProperty("password", args[2]);
    try (Connection connection = DriverManager.getConnection(args[0], props);
         PreparedStatement statement = connection.prepareStatement(args[3])) {
      for (int i = 4; i < args.length; i++) statement.setString(i - 3, args[i]);
      try (ResultSet rows = statement.executeQuery()) {
        ResultSetMetaData meta = rows.getMetaData();
        while (rows.next()) {
          StringBuilder line = new StringBuilder("{");
          for (int column = 1; column <= meta.getColumnCount(); column++) {
            if (column > 1) line.append(',');
            String value = rows.getString(column);
            line.append(quote(meta.getColumnLabel(column))).append(':').append(value == null ? "null" : quote(value));
          }
          System.out.println(line.append('}'));
        }
      }
    } catch (SQLException e) {
      System.err.println("SQLException: " + e.getMessage());
      System.exit(2);
    }
  }

  private static String quote(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20 || c == 0x7f) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }
}
