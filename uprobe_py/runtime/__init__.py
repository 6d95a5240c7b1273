"""What generated handler code runs against: values, arrays, statistics, output, session."""
