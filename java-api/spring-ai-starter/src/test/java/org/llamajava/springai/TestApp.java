package org.llamajava.springai;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;

/** An application with nothing but auto-configuration: what the starter and properties give. */
@SpringBootConfiguration
@EnableAutoConfiguration
public class TestApp {
}
